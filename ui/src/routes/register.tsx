import { AuthForm } from '../components/auth-form.tsx'
import { PageTitle } from '../components/page-title.tsx'

export default function Register () {
  return (
    <>
      <PageTitle title='Create an account' />
      <AuthForm kind='register' />
    </>
  )
}
